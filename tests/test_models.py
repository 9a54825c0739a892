"""DispNet and PoseExpNet against the original's layer table: parameter counts, the variable table, output shapes and
ranges, input-size rules, and a numerical comparison with a re-implementation of the original TF1 graph
written here with raw tf.nn ops (SAME convs, explicit-shape transposed convs, the legacy resize kernels)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from helpers import spec_variables

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.models import DispNet, PoseExpNet, required_multiple


def keras_to_tf1(path: str) -> str:
    """Keras variable path -> TF1 name (kernel -> weights, bias -> biases)."""
    scope, suffix = path.rsplit("/", 1)
    return f"{scope}/{ {'kernel': 'weights', 'bias': 'biases'}[suffix] }"


def weights_by_tf1_name(model) -> dict[str, tf.Tensor]:
    return {keras_to_tf1(v.path): tf.constant(v.numpy()) for v in model.weights}


def randomize_biases(model, seed: int) -> None:
    """Non-zero biases, so that a bias wired to the wrong layer would show in the comparison."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        if variable.path.endswith("/bias"):
            variable.assign(rng.normal(0.0, 0.1, variable.shape).astype(np.float32))


# ---- independent re-implementation of the original graph (the original's nets.py) ----

def ref_conv(x, w, name, stride=1, act=tf.nn.relu):
    y = tf.nn.conv2d(x, w[f"{name}/weights"], strides=stride, padding="SAME") + w[f"{name}/biases"]
    return y if act is None else act(y)


def ref_deconv(x, w, name):
    kernel = w[f"{name}/weights"]
    out_shape = [x.shape[0], 2 * x.shape[1], 2 * x.shape[2], kernel.shape[2]]
    y = tf.nn.conv2d_transpose(x, kernel, out_shape, strides=2, padding="SAME")
    return tf.nn.relu(y + w[f"{name}/biases"])


def ref_resize_like(x, ref):
    """The original's resize_like: nearest resize (TF1 kernel, no half-pixel centres) unless sizes match."""
    if x.shape[1:3] == ref.shape[1:3]:
        return x
    return tf.raw_ops.ResizeNearestNeighbor(images=x, size=ref.shape[1:3], align_corners=False,
                                            half_pixel_centers=False)


def ref_bilinear(x, size):
    return tf.raw_ops.ResizeBilinear(images=x, size=size, align_corners=False, half_pixel_centers=False)


def ref_disp(x, w, name):
    return 10.0 * ref_conv(x, w, name, act=tf.sigmoid) + 0.01


def ref_disp_net(image, w):
    p = "depth_net/"
    height, width = image.shape[1], image.shape[2]
    cnv1b = ref_conv(ref_conv(image, w, p + "cnv1", 2), w, p + "cnv1b")
    cnv2b = ref_conv(ref_conv(cnv1b, w, p + "cnv2", 2), w, p + "cnv2b")
    cnv3b = ref_conv(ref_conv(cnv2b, w, p + "cnv3", 2), w, p + "cnv3b")
    cnv4b = ref_conv(ref_conv(cnv3b, w, p + "cnv4", 2), w, p + "cnv4b")
    cnv5b = ref_conv(ref_conv(cnv4b, w, p + "cnv5", 2), w, p + "cnv5b")
    cnv6b = ref_conv(ref_conv(cnv5b, w, p + "cnv6", 2), w, p + "cnv6b")
    cnv7b = ref_conv(ref_conv(cnv6b, w, p + "cnv7", 2), w, p + "cnv7b")
    upcnv7 = ref_resize_like(ref_deconv(cnv7b, w, p + "upcnv7"), cnv6b)
    icnv7 = ref_conv(tf.concat([upcnv7, cnv6b], 3), w, p + "icnv7")
    upcnv6 = ref_resize_like(ref_deconv(icnv7, w, p + "upcnv6"), cnv5b)
    icnv6 = ref_conv(tf.concat([upcnv6, cnv5b], 3), w, p + "icnv6")
    upcnv5 = ref_resize_like(ref_deconv(icnv6, w, p + "upcnv5"), cnv4b)
    icnv5 = ref_conv(tf.concat([upcnv5, cnv4b], 3), w, p + "icnv5")
    upcnv4 = ref_deconv(icnv5, w, p + "upcnv4")
    icnv4 = ref_conv(tf.concat([upcnv4, cnv3b], 3), w, p + "icnv4")
    disp4 = ref_disp(icnv4, w, p + "disp4")
    disp4_up = ref_bilinear(disp4, [height // 4, width // 4])
    upcnv3 = ref_deconv(icnv4, w, p + "upcnv3")
    icnv3 = ref_conv(tf.concat([upcnv3, cnv2b, disp4_up], 3), w, p + "icnv3")
    disp3 = ref_disp(icnv3, w, p + "disp3")
    disp3_up = ref_bilinear(disp3, [height // 2, width // 2])
    upcnv2 = ref_deconv(icnv3, w, p + "upcnv2")
    icnv2 = ref_conv(tf.concat([upcnv2, cnv1b, disp3_up], 3), w, p + "icnv2")
    disp2 = ref_disp(icnv2, w, p + "disp2")
    disp2_up = ref_bilinear(disp2, [height, width])
    upcnv1 = ref_deconv(icnv2, w, p + "upcnv1")
    icnv1 = ref_conv(tf.concat([upcnv1, disp2_up], 3), w, p + "icnv1")
    disp1 = ref_disp(icnv1, w, p + "disp1")
    return [disp1, disp2, disp3, disp4]


def ref_pose_exp_net(target, sources, w, num_source, do_exp):
    p = "pose_exp_net/"
    x = tf.concat([target, sources], 3)
    for index in range(1, 6):
        x = ref_conv(x, w, f"{p}cnv{index}", 2)
    cnv5 = x
    pred = ref_conv(ref_conv(ref_conv(cnv5, w, p + "pose/cnv6", 2), w, p + "pose/cnv7", 2), w, p + "pose/pred",
                    act=None)
    pose = 0.01 * tf.reshape(tf.reduce_mean(pred, [1, 2]), [-1, num_source, 6])
    if not do_exp:
        return pose, None
    e = p + "exp/"
    upcnv4 = ref_deconv(ref_deconv(cnv5, w, e + "upcnv5"), w, e + "upcnv4")
    mask4 = ref_conv(upcnv4, w, e + "mask4", act=None)
    upcnv3 = ref_deconv(upcnv4, w, e + "upcnv3")
    mask3 = ref_conv(upcnv3, w, e + "mask3", act=None)
    upcnv2 = ref_deconv(upcnv3, w, e + "upcnv2")
    mask2 = ref_conv(upcnv2, w, e + "mask2", act=None)
    upcnv1 = ref_deconv(upcnv2, w, e + "upcnv1")
    mask1 = ref_conv(upcnv1, w, e + "mask1", act=None)
    return pose, [mask1, mask2, mask3, mask4]


def random_images(shape, seed):
    return tf.constant(np.random.default_rng(seed).uniform(-1.0, 1.0, shape).astype(np.float32))


# ---- tests ----

@pytest.fixture(scope="module")
def disp_net() -> DispNet:
    tf.keras.utils.set_random_seed(0)
    return DispNet().ensure_built()


@pytest.mark.parametrize(("num_source", "do_exp", "expected"), [(2, False, 1_590_668), (4, False, 1_598_456),
                                                                 (2, True, 2_639_180)])
def test_pose_exp_net_parameter_counts_match_spec(num_source, do_exp, expected):
    assert PoseExpNet(num_source, do_exp).ensure_built().count_params() == expected


def test_disp_net_parameter_count_matches_spec(disp_net):
    assert disp_net.count_params() == 31_596_900


def test_variable_names_and_shapes_equal_spec_table(disp_net):
    pose_exp_net = PoseExpNet(2, True).ensure_built()
    ours = [(keras_to_tf1(v.path), tuple(v.shape)) for v in disp_net.weights + pose_exp_net.weights]
    assert len(ours) == 98
    assert ours == spec_variables()


def test_five_frame_pose_net_differs_only_in_cnv1_and_pred():
    shapes = {keras_to_tf1(v.path): tuple(v.shape) for v in PoseExpNet(4, False).ensure_built().weights}
    expected = {name: shape for name, shape in spec_variables() if name.startswith("pose_exp_net/")
                and "/exp/" not in name}
    expected.update({"pose_exp_net/cnv1/weights": (7, 7, 15, 16), "pose_exp_net/pose/pred/weights": (1, 1, 256, 24),
                     "pose_exp_net/pose/pred/biases": (24,)})
    assert shapes == expected


def test_disp_net_output_shapes_and_range_at_kitti_size(disp_net):
    disps = disp_net(random_images([1, 128, 416, 3], seed=1))
    assert [tuple(d.shape) for d in disps] == [(1, 128, 416, 1), (1, 64, 208, 1), (1, 32, 104, 1), (1, 16, 52, 1)]
    for disp in disps:
        values = disp.numpy()
        assert np.all(values > 0.01) and np.all(values < 10.01)
        # Zero biases and Glorot weights keep the sigmoid away from saturation: disparity well inside (0.01, 10.01).
        assert 1.0 < values.mean() < 9.0


def test_pose_exp_net_output_shapes_at_kitti_and_small_size():
    net = PoseExpNet(2, True)
    for height, width in ((128, 416), (32, 64)):
        pose, masks = net(random_images([1, height, width, 3], 2), random_images([1, height, width, 6], 3))
        assert tuple(pose.shape) == (1, 2, 6)
        assert [tuple(m.shape) for m in masks] == [(1, height // 2**s, width // 2**s, 4) for s in range(4)]
        assert np.all(np.isfinite(pose.numpy()))


def test_disp_net_small_size_shapes(disp_net):
    disps = disp_net(random_images([2, 32, 48, 3], seed=4))
    assert [tuple(d.shape) for d in disps] == [(2, 32, 48, 1), (2, 16, 24, 1), (2, 8, 12, 1), (2, 4, 6, 1)]


def test_disp_net_matches_raw_tf1_graph(disp_net):
    randomize_biases(disp_net, seed=5)
    # 64x96 exercises both the row crop (upcnv7: 2x2 -> 1x2) and the column crop (upcnv6: 2x4 -> 2x3).
    image = random_images([2, 64, 96, 3], seed=6)
    ours = disp_net(image)
    reference = ref_disp_net(image, weights_by_tf1_name(disp_net))
    for mine, theirs in zip(ours, reference):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-5)
    # The comparison is meaningful: the disparities vary over the image.
    assert ours[0].numpy().std() > 1e-3


@pytest.mark.parametrize(("num_source", "do_exp"), [(2, True), (4, False)])
def test_pose_exp_net_matches_raw_tf1_graph(num_source, do_exp):
    net = PoseExpNet(num_source, do_exp).ensure_built()
    randomize_biases(net, seed=7)
    target, sources = random_images([2, 64, 96, 3], 8), random_images([2, 64, 96, 3 * num_source], 9)
    pose, masks = net(target, sources)
    ref_pose, ref_masks = ref_pose_exp_net(target, sources, weights_by_tf1_name(net), num_source, do_exp)
    np.testing.assert_allclose(pose.numpy(), ref_pose.numpy(), rtol=1e-5, atol=1e-7)
    assert np.abs(pose.numpy()).max() > 1e-4
    if do_exp:
        for mine, theirs in zip(masks, ref_masks):
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-5)
    else:
        assert masks is None


def test_required_multiples():
    assert required_multiple(False) == 16 and required_multiple(True) == 32
    assert DispNet.size_multiple == 16
    assert PoseExpNet(2, True).size_multiple == 32 and PoseExpNet(2, False).size_multiple == 1


def test_disp_net_needs_multiples_of_16(disp_net):
    # 40 = 8 * 5: the original graph itself cannot concat upcnv4 (2 * ceil(40/16) = 6 rows) with cnv3b (5 rows).
    w = weights_by_tf1_name(disp_net)
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError)):
        ref_disp_net(random_images([1, 40, 32, 3], 10), w)
    with pytest.raises(ConfigError, match="height 40 not a multiple of 16"):
        disp_net(tf.zeros([1, 40, 32, 3]))
    with pytest.raises(ConfigError, match="width 24 not a multiple of 16"):
        disp_net(tf.zeros([1, 32, 24, 3]))


def test_exp_branch_needs_multiples_of_32_pose_branch_any_size():
    net = PoseExpNet(2, True).ensure_built()
    # 48 = 16 * 3: the original graph's mask1 would have 32 * ceil(48/32) = 64 rows, not the image's 48.
    _, ref_masks = ref_pose_exp_net(tf.zeros([1, 48, 64, 3]), tf.zeros([1, 48, 64, 6]), weights_by_tf1_name(net), 2,
                                    True)
    assert ref_masks[0].shape[1] == 64
    with pytest.raises(ConfigError, match="height 48 not a multiple of 32"):
        net(tf.zeros([1, 48, 64, 3]), tf.zeros([1, 48, 64, 6]))
    pose, masks = PoseExpNet(2, False)(random_images([1, 40, 56, 3], 11), random_images([1, 40, 56, 6], 12))
    assert tuple(pose.shape) == (1, 2, 6) and masks is None


def test_pose_exp_net_rejects_wrong_source_channels():
    with pytest.raises(ConfigError, match="9 channels, expected 6"):
        PoseExpNet(2, False)(tf.zeros([1, 32, 32, 3]), tf.zeros([1, 32, 32, 9]))


def test_disp_net_with_unknown_spatial_size_in_tf_function(disp_net):
    """Inside a tf.function with unknown H and W the size check is skipped and the sizes come from tf.shape."""
    traced = tf.function(disp_net, input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    image = random_images([1, 32, 48, 3], seed=13)
    for mine, eager in zip(traced(image), disp_net(image)):
        np.testing.assert_allclose(mine.numpy(), eager.numpy(), rtol=1e-6, atol=1e-6)


def variable_table(model) -> list[tuple[str, tuple[int, ...]]]:
    return [(keras_to_tf1(v.path), tuple(v.shape)) for v in model.weights]


@pytest.mark.parametrize("rebuild", ["from_config", "clone_model"])
def test_config_round_trip_rebuilds_the_same_architecture(disp_net, rebuild):
    """from_config(get_config()) and keras.models.clone_model give nets with the original's table (names,
    shapes, order) and the same constructor arguments."""
    import keras

    def rebuilt(model):
        if rebuild == "clone_model":
            return keras.models.clone_model(model)
        return type(model).from_config(model.get_config()).ensure_built()

    pose_exp_net = PoseExpNet(2, True).ensure_built()
    disp_copy, pose_copy = rebuilt(disp_net), rebuilt(pose_exp_net)
    assert (disp_copy.name, pose_copy.name) == ("depth_net", "pose_exp_net")
    assert (pose_copy.num_source, pose_copy.do_exp) == (2, True)
    assert variable_table(disp_copy) + variable_table(pose_copy) == spec_variables()
    five_frames = PoseExpNet(4, False).ensure_built()
    copy5 = rebuilt(five_frames)
    assert (copy5.num_source, copy5.do_exp, copy5.exp) == (4, False, None)
    assert variable_table(copy5) == variable_table(five_frames)
    assert dict(variable_table(copy5))["pose_exp_net/pose/pred/weights"] == (1, 1, 256, 24)


def test_disp_bias_init_sets_every_head_and_nothing_else():
    from sfmlearner_tf.training import TrainConfig, build_state

    tf.keras.utils.set_random_seed(3)
    plain = build_state(TrainConfig()).depth_net
    tf.keras.utils.set_random_seed(3)
    shifted = build_state(TrainConfig(disp_bias_init=-2.0)).depth_net
    heads = {f"depth_net/disp{s}/bias" for s in range(1, 5)}
    for before, after in zip(plain.weights, shifted.weights, strict=True):
        expected = np.full(before.shape, -2.0, np.float32) if after.path in heads else before.numpy()
        np.testing.assert_array_equal(after.numpy(), expected, err_msg=after.path)


def test_disp_bias_init_with_an_initial_checkpoint_is_refused_naming_both() -> None:
    from sfmlearner_tf.training import TrainConfig

    with pytest.raises(ConfigError, match=r"disp_bias_init sets the starting weights .* init_checkpoint_file "
                                          r"/ckpt/model-190532 would replace them") as caught:
        TrainConfig(disp_bias_init=-2.0, init_checkpoint_file="/ckpt/model-190532")
    assert caught.value.fields == ("disp_bias_init",)


def test_a_head_bias_of_minus_two_starts_disparity_at_the_hand_worked_value():
    net = DispNet().ensure_built()
    net.set_disp_head_bias(-2.0)
    net.disp1.kernel.assign(tf.zeros_like(net.disp1.kernel))
    # 10 * sigmoid(-2) + 0.01 = 10 / (1 + e^2) + 0.01 = 10 / 8.38906 + 0.01 = 1.20203 (depth 0.8319).
    disp1 = net(random_images([1, 32, 64, 3], seed=4))[0].numpy()
    np.testing.assert_allclose(disp1, 1.20203, rtol=1e-5)
