"""Numerical checks that each unstructured op does what it says."""

import cv2
import numpy as np
import pytest

from oldphoto import degrade
from oldphoto.degrade.functional import tone


def run(op, image, seed=0):
    res = degrade.Pipeline([op])(image, seed=seed)
    return res.image, res.params["ops"][0]["params"]


def delta(a, b):
    return a.astype(np.float64) - b.astype(np.float64)


def high_freq(image):
    return cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32), cv2.CV_32F).var()


# --- noise ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_gaussian_noise_sigma_matches_drawn(flat, seed):
    out, params = run(degrade.GaussianNoise(sigma=(5, 30), p=1), flat, seed)
    assert abs(delta(out, flat).std() / params["sigma"] - 1) < 0.1
    assert abs(delta(out, flat).mean()) < 0.5


def test_gaussian_noise_luminance_only_is_the_same_in_every_channel(flat):
    out, _ = run(degrade.GaussianNoise(sigma=(10, 10), per_channel=False, p=1), flat)
    assert np.ptp(out.astype(int), axis=2).max() == 0
    assert out.std() > 5


def test_gaussian_noise_grey(flat):
    grey = flat[:, :, 0]
    out, params = run(degrade.GaussianNoise(sigma=(20, 20), p=1), grey)
    assert out.shape == grey.shape and abs(delta(out, grey).std() / 20 - 1) < 0.1


def test_speckle_scales_with_intensity(flat):
    image = flat.copy()
    image[:, 40:] = 32
    out, params = run(degrade.SpeckleNoise(sigma=(20, 20), p=1), image)
    d = delta(out, image)
    assert abs(d[:, :40].std() / (128 * 20 / 255) - 1) < 0.1
    assert abs(d[:, 40:].std() / (32 * 20 / 255) - 1) < 0.15


def test_salt_pepper_fraction_and_share(flat):
    out, params = run(degrade.SaltPepperNoise(amount=(0.05, 0.05), salt=(0.7, 0.7), p=1), flat)
    changed = out != flat
    assert abs(changed.mean() / 0.05 - 1) < 0.1
    assert abs((out[changed] == 255).mean() - 0.7) < 0.05
    assert set(np.unique(out[changed])) <= {0, 255}


def test_poisson_variance(flat):
    out, params = run(degrade.PoissonNoise(peak=(50, 50), p=1), flat)
    expected = 128 * 255 / 50
    assert abs(delta(out, flat).var() / expected - 1) < 0.1


# --- blur -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", [degrade.GaussianBlur(p=1), degrade.DefocusBlur(radius=(2, 3), p=1),
                                degrade.MotionBlur(length=(7, 9), p=1)])
def test_blur_lowers_high_frequency_energy(op, photo):
    out, _ = run(op, photo)
    assert high_freq(out) < 0.5 * high_freq(photo)
    assert abs(out.mean() - photo.mean()) < 1.5


def test_motion_blur_direction(photo):
    out, _ = run(degrade.MotionBlur(length=(11, 11), angle=(0, 0), p=1), photo)
    grey_in = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY).astype(float)
    grey_out = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(float)
    dx_ratio = np.abs(np.diff(grey_out, axis=1)).mean() / np.abs(np.diff(grey_in, axis=1)).mean()
    dy_ratio = np.abs(np.diff(grey_out, axis=0)).mean() / np.abs(np.diff(grey_in, axis=0)).mean()
    assert dx_ratio < 0.6 * dy_ratio


def test_gaussian_blur_uses_the_drawn_kernel(photo):
    out, params = run(degrade.GaussianBlur(ksize=(5,), sigma=(2, 2), p=1), photo)
    assert params == {"ksize": 5, "sigma": 2.0}
    np.testing.assert_array_equal(out, cv2.GaussianBlur(photo, (5, 5), 2, borderType=cv2.BORDER_REFLECT_101))


# --- compression --------------------------------------------------------------------------------------

def test_jpeg_quality_orders_error(photo):
    errors = []
    for q in (15, 50, 95):
        out, _ = run(degrade.JpegCompression(quality=(q, q), p=1), photo)
        errors.append((delta(out, photo) ** 2).mean())
    assert errors[0] > errors[1] > errors[2] > 0


def test_jpeg_grey_stays_grey(grey):
    out, _ = run(degrade.JpegCompression(quality=(30, 30), p=1), grey)
    assert out.shape == grey.shape and (out != grey).any()


def test_resample_sizes_and_error(photo):
    errors = []
    for s in (0.25, 0.5, 0.9):
        out, params = run(degrade.Resample(scale=(s, s), up=("bilinear",), p=1), photo)
        assert params["width"] == params["height"] == int(np.ceil(128 * s))
        errors.append((delta(out, photo) ** 2).mean())
    assert errors[0] > errors[1] > errors[2]


def test_resample_independent_jitter(photo):
    dep = [run(degrade.Resample(independent=False, p=1), photo[:, :64], s)[1] for s in range(30)]
    ind = [run(degrade.Resample(independent=True, p=1), photo[:, :64], s)[1] for s in range(30)]
    assert all(abs(p["width"] / 64 - p["height"] / 128) < 0.03 for p in dep)
    assert any(abs(p["width"] / 64 - p["height"] / 128) > 0.1 for p in ind)


# --- tone -------------------------------------------------------------------------------------------

def test_fade_loses_contrast_and_saturation(photo):
    out, _ = run(degrade.Fade(contrast=(0.5, 0.5), saturation=(0.8, 0.8), p=1), photo)

    def sat(im):
        return cv2.cvtColor(im, cv2.COLOR_RGB2HSV)[..., 1].mean()

    assert out.std() < 0.6 * photo.std()
    assert sat(out) < 0.5 * sat(photo)


def test_sepia_full_strength_matches_matrix():
    image = np.zeros((8, 8, 3), np.uint8)
    image[...] = (100, 50, 20)
    out, _ = run(degrade.Sepia(strength=(1, 1), p=1), image)
    expected = np.clip(np.rint(tone.SEPIA @ np.array([100, 50, 20], float)), 0, 255)
    np.testing.assert_allclose(out[0, 0], expected, atol=1)


def test_yellowing_warms(photo):
    out, _ = run(degrade.Yellowing(strength=(1, 1), p=1), photo)
    assert out[..., 2].mean() < 0.75 * photo[..., 2].mean()
    assert out[..., 0].mean() >= photo[..., 0].mean()


def test_uneven_exposure_darkens_corners(flat):
    op = degrade.UnevenExposure(vignette=(0.5, 0.5), center_jitter=0.0, gradient=(0, 0), p=1)
    out, _ = run(op, flat)
    assert out[0, 0, 0] < 0.6 * 128 + 2 and abs(int(out[48, 40, 0]) - 128) <= 1


def test_brightness_contrast_hand_computed(flat):
    out, _ = run(degrade.BrightnessContrast(brightness=(0.1, 0.1), contrast=(0.5, 0.5), p=1), flat)
    assert out[0, 0, 0] == round((128 - 127.5) * 1.5 + 127.5 + 25.5)


def test_photo_tone_hand_computed_and_applied_to_the_target(flat):
    op = degrade.PhotoTone(brightness=(0.1, 0.1), contrast=(-0.5, -0.5), gamma=(2.0, 2.0), p=1)
    res = degrade.Pipeline([op])(flat, seed=0)
    expected = round((255 * (128 / 255) ** 2 - 127.5) * 0.5 + 127.5 + 25.5)
    assert res.image[0, 0, 0] == expected
    np.testing.assert_array_equal(res.target, res.image)


def test_photo_tone_keeps_grey_grey_and_identity_at_zero(photo):
    grey = cv2.cvtColor(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    out, _ = run(degrade.PhotoTone(p=1), grey)
    assert np.ptp(out.astype(int), axis=2).max() == 0
    same, _ = run(degrade.PhotoTone(brightness=(0, 0), contrast=(0, 0), gamma=(1, 1), p=1), photo)
    np.testing.assert_array_equal(same, photo)


def test_grayscale_is_bt601(photo):
    out, _ = run(degrade.Grayscale(p=1), photo)
    assert np.ptp(out.astype(int), axis=2).max() == 0
    np.testing.assert_array_equal(out[..., 0], cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY))


def test_colour_ops_on_grey_change_luminance_only(grey):
    out, _ = run(degrade.Sepia(strength=(1, 1), p=1), grey)
    assert out.shape == grey.shape and (out != grey).any()


# --- grain ------------------------------------------------------------------------------------------

def neighbour_correlation(d):
    return np.corrcoef(d[:, :-1].ravel(), d[:, 1:].ravel())[0, 1]


def test_film_grain_is_correlated_and_luminance_dependent():
    image = np.full((128, 128), 128, np.uint8)
    image[:, 64:] = 8
    out, params = run(degrade.FilmGrain(intensity=(12, 12), size=(3, 3), p=1), image)
    d = delta(out, image)
    assert neighbour_correlation(d[:, :64]) > 0.5
    white, _ = run(degrade.GaussianNoise(sigma=(12, 12), p=1), image)
    assert abs(neighbour_correlation(delta(white, image)[:, :64])) < 0.1
    assert d[:, :64].std() > 2.5 * d[:, 64:].std()
    assert abs(d[:, :64].std() / 12 - 1) < 0.2


def test_film_grain_monochrome_option(flat):
    mono, _ = run(degrade.FilmGrain(monochrome=True, p=1), flat)
    colour, _ = run(degrade.FilmGrain(monochrome=False, p=1), flat)
    assert np.ptp(mono.astype(int), axis=2).max() == 0
    assert np.ptp(colour.astype(int), axis=2).max() > 0
