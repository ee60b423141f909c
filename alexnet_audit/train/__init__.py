"""Train a spec's network on real data and judge whether it converges.

data.py loads images by name or path (builtin_sets.py: digits, mnist5k, shapes; stored_sets.py
and image_folder.py: from disk in their standard formats; image_set.py: the set and its
held-out rules) and device_data.py makes each batch on the device; loop.py is the
training loop; recipe.py fixes what a run will do and how it departs from the source's;
probe.py reads the activations and verdict.py turns the evidence into `converges`,
`fails to converge`, `inconclusive` or `diverges`; experiment.py runs the ReLU-vs-tanh
experiment over seeds (speedup.py: its ratios, median, spread and agreement rule); run.py
puts them together into a `TrainingRecord` (record.py), the JSON file that claims.py reads;
plot.py draws the curves. distributed.py is what changes when several processes train
together (DDP, the sharded batches) and launch.py starts them (`--nproc`) or joins torchrun's.
"""
