"""Why a figure is wrong: each diagnosis is a computed reading that reproduces the claimed figure.

A diagnosis is offered only when recomputing the network under that reading (bias left out,
one GPU's half, another input size, other padding semantics, the same post's other reading,
another tool's counting convention, a slip of one digit) gives the figure the source wrote.
"""


from .conventions import peer_conventions, peer_mac_figures
from .core import Diagnosis, Reading, Variant, digit_slip, input_flattened, shape_slip
from .numeric import numeric_diagnoses
from .readings import variant_rows
from .shape import padding_needed, shape_diagnoses, weight_shapes

__all__ = ["Diagnosis", "Reading", "Variant", "digit_slip", "input_flattened", "numeric_diagnoses", "padding_needed",
           "peer_conventions", "peer_mac_figures", "shape_diagnoses", "shape_slip", "variant_rows", "weight_shapes"]
