"""Train a spec's network on real data and judge whether it converges.

data.py loads images (built in, or from disk in their standard formats); loop.py is the
training loop; recipe.py fixes what a run will do and how it departs from the source's;
probe.py reads the activations and verdict.py turns the evidence into `converges`,
`fails to converge`, `inconclusive` or `diverges`; experiment.py runs the ReLU-vs-tanh
experiment over seeds (speedup.py: its ratios, median, spread and agreement rule); run.py
puts them together into a `TrainingRecord` (record.py), the JSON file that claims.py reads;
plot.py draws the curves.
"""
