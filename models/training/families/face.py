"""``oldphoto train bopbtl-face``: the face generator on aligned faces degraded on the fly.

Losses (as in SPADE / the reference's face stage): least-squares GAN against a conditional
multi-scale PatchGAN that sees (degraded, candidate) pairs, discriminator feature matching, and
the VGG16 perceptual loss (VGG19 cannot be had offline). ``--source`` is ``builtin``, an FFHQ or
CelebA-HQ folder, or any folder of photos with faces (auto-aligned with the detector; see
:mod:`.face_data`). ``crop`` is the aligned face side used for training (a multiple of 32).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from oldphoto.models.configs import DiscriminatorConfig, config_dict
from oldphoto.models.face.detect import DetectorConfig
from oldphoto.models.face.generator import UPSAMPLINGS, FaceGenerator, FaceGeneratorConfig
from oldphoto.models.face.model import MODEL_NAME
from oldphoto.models.weights import save_weights

from ..config import TrainConfig
from ..discriminators import MultiScaleDiscriminator
from ..losses import VGGPerceptualLoss, feature_matching_loss, lsgan_loss, vgg16_features
from ..registry import register_trainer
from ..stage import Stage
from .face_data import FaceDataset, face_sources


@dataclass
class FaceTrainConfig(TrainConfig):
    """Adds loss weights (``gan_weight``, ``feature_weight``, ``perceptual_weight``), the
    discriminator's size (``disc_channels``, ``disc_layers``, ``disc_scales``), ``vgg_weights``
    (a VGG16 ``features`` state-dict file; None = the converted LPIPS backbone in the oldphoto
    cache), and for auto-aligned sources the detector ``face_threshold`` and ``min_face`` (px)."""

    crop: int = 256
    batch_size: int = 4
    per_image: int = 256
    gan_weight: float = 1.0
    feature_weight: float = 10.0
    perceptual_weight: float = 10.0
    disc_channels: int = 64
    disc_layers: int = 3
    disc_scales: int = 2
    vgg_weights: str | None = None
    face_threshold: float = 0.9
    min_face: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.crop % 2**UPSAMPLINGS:
            raise ValueError(f"crop (the aligned face side) must be a multiple of {2**UPSAMPLINGS}, got {self.crop}")
        if min(self.gan_weight, self.feature_weight, self.perceptual_weight) < 0:
            raise ValueError("loss weights must be >= 0")
        if min(self.disc_channels, self.disc_layers, self.disc_scales, self.min_face) < 1:
            raise ValueError("disc_channels, disc_layers, disc_scales and min_face must be >= 1")


@register_trainer(MODEL_NAME)
class FaceStage(Stage):
    """Alternates a discriminator step (real vs generated faces, conditioned on the degraded face)
    and a generator step (GAN + feature matching + perceptual)."""

    description = "Face generator (SPADE-style) on aligned faces with on-the-fly degradations"
    model_config_cls = FaceGeneratorConfig
    train_config_cls = FaceTrainConfig

    @classmethod
    def make_dataset(cls, train_config: FaceTrainConfig, seed: int, data_dir=None, source=None) -> FaceDataset:
        if data_dir is not None or source is None:
            raise ValueError(f"{MODEL_NAME} trains from --source: builtin, an FFHQ / CelebA-HQ folder, or a folder "
                             "of face photos (synthesized --data folders hold no aligned faces)")
        records, _ = face_sources(str(source), DetectorConfig(threshold=train_config.face_threshold),
                                  train_config.min_face)
        return FaceDataset(records, train_config.crop, train_config.preset, seed, train_config.per_image)

    def build(self):
        c, t = self.model_config, self.train_config
        if c.start == "latent" and c.size != t.crop:
            raise ValueError(f"a latent-start generator is built for {c.size} px faces; "
                             f"train it with crop {c.size}, not {t.crop}")
        generator = FaceGenerator(c)
        disc = MultiScaleDiscriminator(6, DiscriminatorConfig(t.disc_channels, t.disc_layers, t.disc_scales))
        self.perceptual = VGGPerceptualLoss(vgg16_features(t.vgg_weights)).to(self.device)
        betas = (0.5, 0.999)
        return ({"generator": generator, "discriminator": disc},
                {"generator": torch.optim.Adam(generator.parameters(), lr=t.lr, betas=betas),
                 "discriminator": torch.optim.Adam(disc.parameters(), lr=t.lr, betas=betas)})

    def _generate(self, degraded: torch.Tensor) -> torch.Tensor:
        z = None
        if self.model_config.start == "latent":
            z = torch.randn(len(degraded), self.model_config.latent_dim, generator=self.generator, device=self.device)
        return self.nets["generator"](degraded, z)

    def train_step(self, batch):
        t = self.train_config
        x, clean = batch["degraded"], batch["clean"]
        with self.autocast():
            fake = self._generate(x)
            pairs = torch.cat([torch.cat([x, clean], 1), torch.cat([x, fake.detach()], 1)]) * 2 - 1
            outputs = self.nets["discriminator"](pairs)
        real_scores = [scale[-1].float().chunk(2)[0] for scale in outputs]
        fake_scores = [scale[-1].float().chunk(2)[1] for scale in outputs]
        d_loss = 0.5 * (lsgan_loss(real_scores, True) + lsgan_loss(fake_scores, False))
        self.optimize(d_loss, "discriminator")
        with self.autocast():
            # Plain module: its gradients from this pass are zeroed before the next D step.
            both = self.modules["discriminator"](torch.cat([torch.cat([x, fake], 1), torch.cat([x, clean], 1)]) * 2 - 1)
        g_gan = lsgan_loss([scale[-1].float().chunk(2)[0] for scale in both], True)
        fake_features = [f.float().chunk(2)[0] for scale in both for f in scale[:-1]]
        real_features = [f.float().chunk(2)[1] for scale in both for f in scale[:-1]]
        g_feat = feature_matching_loss(fake_features, real_features)
        g_vgg = self.perceptual(fake.float(), clean)
        g_loss = t.gan_weight * g_gan + t.feature_weight * g_feat + t.perceptual_weight * g_vgg
        self.optimize(g_loss, "generator")
        return {"d": d_loss.item(), "g_gan": g_gan.item(), "feat": g_feat.item(), "vgg": g_vgg.item(),
                "g": g_loss.item()}

    def sample(self, batch):
        x = batch["degraded"]
        z = (None if self.model_config.start == "degraded"
             else torch.zeros(len(x), self.model_config.latent_dim, device=x.device))
        return [x, self.modules["generator"](x, z), batch["clean"]]

    def export(self, path: Path, meta: dict) -> Path:
        return save_weights(path, MODEL_NAME, config_dict(self.model_config), self.modules["generator"], meta)
