"""The reference networks' figures, computed by hand from their published layer tables."""

from __future__ import annotations

from alexnet_audit.analysis import Analysis


def test_paper_alexnet_two_gpu_parameters(shipped: dict[str, Analysis]) -> None:
    a = shipped["paper-alexnet-2012"]
    conv1 = 11 * 11 * 3 * 96 + 96
    conv2 = 5 * 5 * 48 * 256 + 256  # groups=2: each kernel sees 48 of the 96 maps
    conv3 = 3 * 3 * 256 * 384 + 384
    conv4 = 3 * 3 * 192 * 384 + 384
    conv5 = 3 * 3 * 192 * 256 + 256
    fc = 6 * 6 * 256 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    assert conv1 == 34_944
    assert a.totals.trainable_params == conv1 + conv2 + conv3 + conv4 + conv5 + fc == 60_965_224
    assert a.layer("conv1").output_shape == (96, 55, 55)
    assert a.layer("conv1").params == 34_944
    assert a.layer("conv2").params == conv2


def test_paper_alexnet_neurons_are_conv_and_fc_outputs(shipped: dict[str, Analysis]) -> None:
    a = shipped["paper-alexnet-2012"]
    by_hand = 55 * 55 * 96 + 27 * 27 * 256 + 13 * 13 * 384 * 2 + 13 * 13 * 256 + 4096 + 4096 + 1000
    assert a.totals.neurons == by_hand == 659_272


def test_torchvision_alexnet_params_and_fvcore_macs(shipped: dict[str, Analysis]) -> None:
    a = shipped["torchvision-alexnet"]
    assert a.totals.trainable_params == 61_100_840
    conv = (64 * 55 * 55 * 3 * 11 * 11 + 192 * 27 * 27 * 64 * 25 + 384 * 13 * 13 * 192 * 9
            + 256 * 13 * 13 * 384 * 9 + 256 * 13 * 13 * 256 * 9)
    linear = 9216 * 4096 + 4096 * 4096 + 4096 * 1000
    adaptive_pool = 256 * 6 * 6  # fvcore: one op per input element
    assert a.totals.macs == conv + linear + adaptive_pool == 714_197_696
    assert a.totals.flops == 2 * a.totals.macs
    assert a.totals.macs_complete and not a.disagreements


def test_paper_alexnet_receptive_field_by_hand(shipped: dict[str, Analysis]) -> None:
    a = shipped["paper-alexnet-2012"]
    # r += (k - 1) * j ; j *= s, layer by layer along one axis
    expected = {"conv1": (11, 4), "pool1": (19, 8), "conv2": (51, 8), "pool2": (67, 16),
                "conv3": (99, 16), "conv4": (131, 16), "conv5": (163, 16), "pool5": (195, 32)}
    for name, (rf, jump) in expected.items():
        layer = a.layer(name)
        assert (layer.receptive_field, layer.effective_stride) == (rf, jump), name


def test_lrn_leaves_mac_total_marked_incomplete(shipped: dict[str, Analysis]) -> None:
    a = shipped["paper-alexnet-2012"]
    assert not a.totals.macs_complete
    assert [entry.split(":")[0] for entry in a.incomplete] == ["lrn1", "lrn2"]
