"""Training stages of the bopbtl family on the shared loop (``oldphoto train NAME``).

``bopbtl-vae-old``   VAE1 on synthetic old photos X and real old photos R, with a latent
                     discriminator pulling R's latents toward X's (the triplet domain alignment).
                     Without ``real_folder`` a held-out degradation family (fading, sepia, defocus,
                     film grain: none of them in the synthetic presets' bopbtl-code) applied to the
                     clean photos stands in for the real domain.
``bopbtl-vae-clean`` VAE2 on clean photos Y.
``bopbtl-mapping``   the mapping Z_X -> Z_Y between the frozen VAEs of the two stages above.
``bopbtl-detector``  the scratch detector on the defect masks of the data (focal + Dice loss).
``bopbtl-fusion``    the identity-safe fusion head (:mod:`oldphoto.models.bopbtl.fusion`) on top of the frozen VAEs and
                     mapping: image L1, perceptual, conditional LSGAN and feature matching on the
                     restored photo, with identity pairs (a clean photo in, the same photo out).
``bopbtl-tone``      a fresh global tone stage for a trained head, on its own (``bopbtl_tone.py``).

Each stage exports its own network in the format of :mod:`oldphoto.models.bopbtl.parts`;
:func:`oldphoto.models.bopbtl.assemble.assemble_weights` joins them into the weight file a restorer loads.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from oldphoto.models.baselines.sequential import DnCNN, SequentialConfig
from oldphoto.models.bopbtl.configs import BopbtlConfig
from oldphoto.models.bopbtl.detector import ScratchDetector, rgb_to_grey
from oldphoto.models.bopbtl.fusion import FusionHead
from oldphoto.models.bopbtl.mapping import Mapping
from oldphoto.models.bopbtl.model import latent_mask
from oldphoto.models.bopbtl.parts import BopbtlStageConfig, load_stage_weights
from oldphoto.models.bopbtl.vae import VAE
from oldphoto.models.checkpoint import CheckpointError, load_checkpoint
from oldphoto.models.configs import config_dict
from oldphoto.models.weights import load_weights, save_weights

from ..config import TrainConfig
from ..discriminators import MultiScaleDiscriminator, latent_discriminator
from ..losses import VGGPerceptualLoss, feature_matching_loss, l1_loss, lsgan_loss, vgg16_features
from ..registry import register_trainer
from ..stage import Stage

# The held-out family standing in for real old photos when no real folder is given.
STAND_IN_REAL = {
    "type": "Pipeline",
    "name": "bopbtl-real-stand-in",
    "transforms": [
        {"type": "Fade", "p": 0.8},
        {"type": "Sepia", "p": 0.6},
        {"type": "DefocusBlur", "radius": [0.5, 2.0], "p": 0.6},
        {"type": "FilmGrain", "p": 0.8},
    ],
}


@dataclass
class BopbtlTrainConfig(TrainConfig):
    """Loss weights (paper: L1 x10, KL x1, feature matching x10, VGG x10, latent L1 x60; a weight of 0
    switches its term off), the VGG16 weights file (None: the converted backbone from ``oldphoto
    weights``), ``identity_fraction``: the share of ``bopbtl-fusion`` and ``bopbtl-tone`` training
    items whose input is the clean photo itself, with no defect mask (the restorer must return it
    unchanged), ``tone_psnr_cap``: the dB above which ``bopbtl-tone`` stops rewarding a photo, and
    ``freeze_tone``: ``bopbtl-fusion`` keeps the tone stage of its starting head (``fusion_weights``)
    as it is and trains the rest of the head around it."""

    l1_weight: float = 10.0
    kl_weight: float = 1.0
    gan_weight: float = 1.0
    feature_matching_weight: float = 10.0
    perceptual_weight: float = 10.0
    latent_gan_weight: float = 1.0
    latent_l1_weight: float = 60.0
    dice_weight: float = 1.0
    focal_gamma: float = 2.0
    vgg16_weights: str | None = None
    identity_fraction: float = 0.25
    tone_psnr_cap: float = 40.0
    freeze_tone: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.identity_fraction <= 1.0:
            raise ValueError(f"identity_fraction must be a fraction in [0, 1], got {self.identity_fraction}")
        if not self.tone_psnr_cap > 0:
            raise ValueError(f"tone_psnr_cap must be a PSNR above 0 dB, got {self.tone_psnr_cap}")


def defect_mask(batch: dict) -> torch.Tensor | None:
    """Union of the batch's defect masks as B x 1 x H x W floats in {0, 1} (``mask`` or ``masks``)."""
    if "mask" in batch:
        mask = batch["mask"]
        return (mask if mask.ndim == 4 else mask[:, None]).float()
    if "masks" in batch:
        return batch["masks"].float().amax(dim=1, keepdim=True)
    return None


def adam(*modules: nn.Module, lr: float) -> torch.optim.Adam:
    """Adam (betas 0.5, 0.999) over the parameters of ``modules`` that take gradients."""
    params = [p for module in modules for p in module.parameters() if p.requires_grad]
    return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))


class _GanStage(Stage):
    """Shared parts of the stages with an image generator: perceptual loss and GAN updates."""

    model_config_cls = BopbtlStageConfig
    train_config_cls = BopbtlTrainConfig

    def perceptual(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.train_config.perceptual_weight == 0:
            return prediction.new_zeros(())
        if not hasattr(self, "_vgg"):
            self._vgg = VGGPerceptualLoss(vgg16_features(self.train_config.vgg16_weights)).to(self.device)
        return self._vgg(prediction.float(), target.float())

    def discriminator_step(self, name: str, real: torch.Tensor, fake: torch.Tensor) -> float:
        with self.autocast():
            loss = 0.5 * (lsgan_loss(self._scores(self.nets[name](real)), True)
                          + lsgan_loss(self._scores(self.nets[name](fake.detach())), False))
        self.optimize(loss.float(), name)
        return loss.item()

    def adversarial(self, name: str, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Generator LSGAN loss and discriminator feature matching for ``fake`` against ``real``."""
        fake_out = self._nested(self.nets[name](fake))
        with torch.no_grad():
            real_out = self._nested(self.nets[name](real))
        gan = lsgan_loss([scale[-1] for scale in fake_out], True)
        matching = (sum(feature_matching_loss(f[:-1], r[:-1]) for f, r in zip(fake_out, real_out, strict=False))
                    / len(fake_out))
        return gan, matching

    @staticmethod
    def _nested(outputs) -> list[list[torch.Tensor]]:
        return outputs if isinstance(outputs[0], list) else [outputs]

    def _scores(self, outputs) -> list[torch.Tensor]:
        return [scale[-1] for scale in self._nested(outputs)]

    def export_module(self, path: Path, module: nn.Module, meta: dict) -> Path:
        return export_stage(self, path, module, meta)


class _VAEStage(_GanStage):
    """A VAE with a multi-scale image discriminator: L1, KL, LSGAN, feature matching, perceptual."""

    def build(self):
        config = self.model_config.network_config()
        vae, disc = VAE(config.vae), MultiScaleDiscriminator(3, config.discriminator)
        lr = self.train_config.lr
        return {"vae": vae, "disc": disc}, {"vae": adam(vae, lr=lr), "disc": adam(disc, lr=lr)}

    def vae_losses(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, float], torch.Tensor, torch.Tensor]:
        """Generator loss terms for reconstructing ``image``; returns (loss, logs, recon, latent)."""
        cfg = self.train_config
        with self.autocast():
            recon, latent, kl = self.nets["vae"](image, self.generator)
        d_loss = self.discriminator_step("disc", image, recon)
        with self.autocast():
            gan, matching = self.adversarial("disc", image, recon)
        recon32 = recon.float()
        l1, perceptual = l1_loss(recon32, image), self.perceptual(recon32, image)
        loss = (cfg.l1_weight * l1 + cfg.kl_weight * kl.float() + cfg.gan_weight * gan.float()
                + cfg.feature_matching_weight * matching.float() + cfg.perceptual_weight * perceptual)
        logs = {"l1": l1.item(), "kl": kl.item(), "gan": gan.item(), "fm": matching.item(),
                "vgg": perceptual.item(), "d": d_loss}
        return loss, logs, recon, latent

    def sample(self, batch):
        image = self.stage_input(batch)
        return [image, self.modules["vae"](image)[0]]

    @abstractmethod
    def stage_input(self, batch) -> torch.Tensor:
        """The images this VAE reconstructs."""

    def export(self, path: Path, meta: dict) -> Path:
        return self.export_module(path, self.modules["vae"], meta)


@register_trainer("bopbtl-vae-clean")
class CleanVAEStage(_VAEStage):
    """VAE2 on clean photos."""

    def stage_input(self, batch):
        return batch["clean"]

    def train_step(self, batch):
        loss, logs, _, _ = self.vae_losses(batch["clean"])
        self.optimize(loss, "vae")
        return {"loss": loss.item(), **logs}


@register_trainer("bopbtl-vae-old")
class OldVAEStage(_VAEStage):
    """VAE1 on synthetic and real old photos, with the latent discriminator aligning the two."""

    def build(self):
        modules, optimizers = super().build()
        config = self.model_config.network_config()
        modules["latent_disc"] = latent_discriminator(config.vae.channels, config.discriminator)
        optimizers["latent_disc"] = adam(modules["latent_disc"], lr=self.train_config.lr)
        self._real_photos = None
        if self.model_config.real_folder is not None:
            from oldphoto.datasets.torch import UnpairedDataset

            self._real_photos = UnpairedDataset(self.model_config.real_folder)
            if len(self._real_photos) == 0:
                raise ValueError(f"real_folder {self.model_config.real_folder}: no images found")
        return modules, optimizers

    def stage_input(self, batch):
        return batch["degraded"]

    def real_batch(self, batch) -> torch.Tensor:
        """Real old photos (random crops of the folder) or the stand-in: the clean photos degraded
        by the held-out family. All randomness comes from ``self.generator``."""
        clean = batch["clean"]
        seeds = torch.randint(0, 2**62, (clean.shape[0],), generator=self.generator, device=self.generator.device)
        if self._real_photos is None:
            from oldphoto.degrade.compose import Pipeline

            pipeline = Pipeline.from_dict(STAND_IN_REAL)
            images = (clean.detach().cpu().permute(0, 2, 3, 1).numpy() * 255.0).round().astype(np.uint8)
            real = [torch.from_numpy(pipeline(image, seed=int(seed)).image)
                    for image, seed in zip(images, seeds.tolist(), strict=False)]
            return torch.stack(real).permute(0, 3, 1, 2).float().div(255.0).to(clean.device)
        crops = [self._real_crop(int(seed), clean.shape[-2:]) for seed in seeds.tolist()]
        return torch.stack(crops).to(clean.device)

    def _real_crop(self, seed: int, size) -> torch.Tensor:
        rng = np.random.default_rng(seed)
        photo = self._real_photos[int(rng.integers(len(self._real_photos)))]["degraded"]
        height, width = photo.shape[-2:]
        if height < size[0] or width < size[1]:
            scale = max(size[0] / height, size[1] / width)
            photo = F.interpolate(photo[None], scale_factor=scale, mode="bilinear", align_corners=False)[0]
            height, width = photo.shape[-2:]
        top, left = int(rng.integers(height - size[0] + 1)), int(rng.integers(width - size[1] + 1))
        return photo[:, top: top + size[0], left: left + size[1]].clamp(0, 1)

    def train_step(self, batch):
        cfg = self.train_config
        images = torch.cat([batch["degraded"], self.real_batch(batch)])
        loss, logs, _, latent = self.vae_losses(images)
        synthetic, real = latent.chunk(2)
        with self.autocast():
            d_latent = 0.5 * (lsgan_loss(self.nets["latent_disc"](synthetic.detach())[-1], True)
                              + lsgan_loss(self.nets["latent_disc"](real.detach())[-1], False))
        self.optimize(d_latent.float(), "latent_disc")
        with self.autocast():
            align = lsgan_loss(self.nets["latent_disc"](real)[-1], True)
        loss = loss + cfg.latent_gan_weight * align.float()
        self.optimize(loss, "vae")
        return {"loss": loss.item(), **logs, "latent_gan": align.item(), "latent_d": d_latent.item()}


def export_stage(stage: Stage, path: Path, module: nn.Module, meta: dict, kind: str | None = None) -> Path:
    """Write a stage's ``module`` as a ``kind`` weight file (default: the stage's name) with its stage
    config and, in ``meta["network"]``, the whole network config it was trained with (so a config
    changed later cannot load it unnoticed)."""
    network = stage.model_config.network_config().to_dict()
    return save_weights(path, kind or stage.name, config_dict(stage.model_config), module,
                        {**meta, "network": network})


def load_frozen_vae(config: BopbtlConfig, stage: str, path: str | None, device: torch.device) -> VAE:
    """A VAE exported by ``stage``, frozen in eval mode (an error naming the file when unusable)."""
    if not path:
        field_name = "vae_old_weights" if stage == "bopbtl-vae-old" else "vae_clean_weights"
        raise CheckpointError(f"bopbtl-mapping: the model config needs {field_name} (the {stage} export)")
    vae = VAE(config.vae)
    load_stage_weights(vae, stage, path, config, "vae")
    return vae.to(device).eval().requires_grad_(False)


@register_trainer("bopbtl-mapping")
class MappingStage(_GanStage):
    """The mapping between frozen VAEs: latent L1, conditional LSGAN, feature matching, perceptual."""

    unused_parameters = True  # the global branch gets no gradient on a batch without defects

    def build(self):
        config = self.model_config.network_config()
        self.vae_old = load_frozen_vae(config, "bopbtl-vae-old", self.model_config.vae_old_weights, self.device)
        self.vae_clean = load_frozen_vae(config, "bopbtl-vae-clean", self.model_config.vae_clean_weights, self.device)
        mapping, disc = Mapping(config.mapping, config.vae.channels), MultiScaleDiscriminator(6, config.discriminator)
        lr = self.train_config.lr
        return {"mapping": mapping, "disc": disc}, {"mapping": adam(mapping, lr=lr), "disc": adam(disc, lr=lr)}

    def translate(self, degraded: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        with torch.no_grad():
            source, _ = self.vae_old.encode(degraded)
        return self.nets["mapping"](source, latent_mask(mask) if mask is not None else None)

    def train_step(self, batch):
        cfg = self.train_config
        degraded, clean, mask = batch["degraded"], batch["clean"], defect_mask(batch)
        with self.autocast():
            predicted = self.translate(degraded, mask)
            with torch.no_grad():
                target, _ = self.vae_clean.encode(clean)
            restored = self.vae_clean.decode(predicted)
        real_pair, fake_pair = torch.cat([degraded, clean], 1), torch.cat([degraded, restored], 1)
        d_loss = self.discriminator_step("disc", real_pair, fake_pair)
        with self.autocast():
            gan, matching = self.adversarial("disc", real_pair, fake_pair)
        latent = l1_loss(predicted.float(), target.float())
        perceptual = self.perceptual(restored.float(), clean)
        loss = (cfg.latent_l1_weight * latent + cfg.gan_weight * gan.float()
                + cfg.feature_matching_weight * matching.float() + cfg.perceptual_weight * perceptual)
        self.optimize(loss, "mapping")
        return {"loss": loss.item(), "latent_l1": latent.item(), "gan": gan.item(), "fm": matching.item(),
                "vgg": perceptual.item(), "d": d_loss, "image_l1": l1_loss(restored.detach().float(), clean).item()}

    def sample(self, batch):
        restored = self.vae_clean.decode(self.modules["mapping"](self.vae_old.encode(batch["degraded"])[0],
                                                                 self._sample_mask(batch)))
        return [batch["degraded"], restored, batch["clean"]]

    @staticmethod
    def _sample_mask(batch):
        mask = defect_mask(batch)
        return latent_mask(mask) if mask is not None else None

    def export(self, path: Path, meta: dict) -> Path:
        return self.export_module(path, self.modules["mapping"], meta)


def identity_items(batch: dict, fraction: float, generator: torch.Generator) -> torch.Tensor:
    """Which items of ``batch`` become identity pairs: B booleans, each true with probability
    ``fraction``, drawn from ``generator`` (one draw per item)."""
    clean = batch["clean"]
    draw = torch.rand(clean.shape[0], generator=generator, device=generator.device).to(clean.device)
    return draw < fraction


def identity_pairs(batch: dict, fraction: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(input, mask) of a batch where the :func:`identity_items` are replaced by their clean photo
    with an empty mask (B x 1 x H x W; zeros when the data has none)."""
    clean, degraded = batch["clean"], batch["degraded"]
    mask = defect_mask(batch)
    mask = mask if mask is not None else clean.new_zeros((clean.shape[0], 1, *clean.shape[-2:]))
    keep = ~identity_items(batch, fraction, generator)[:, None, None, None]
    return torch.where(keep, degraded, clean), mask * keep


def load_frozen_mapping(config: BopbtlConfig, path: str | None, device: torch.device) -> Mapping:
    """The exported mapping at ``path``, frozen in eval mode (an error naming the file when unusable)."""
    if not path:
        raise CheckpointError("bopbtl-fusion: the model config needs mapping_weights (the bopbtl-mapping export)")
    mapping = Mapping(config.mapping, config.vae.channels)
    load_stage_weights(mapping, "bopbtl-mapping", path, config, "mapping")
    return mapping.to(device).eval().requires_grad_(False)


def start_from_denoiser(head: FusionHead, path: str) -> None:
    """Start ``head``'s residual body from the ``sequential`` export at ``path`` (an error naming the
    file when it is unusable or its width and depth differ from the head's)."""
    payload = load_checkpoint(path, required=("config",))
    try:
        config = SequentialConfig(**payload["config"])
        denoiser = DnCNN(config.width, config.depth)
        load_weights(denoiser, "sequential", path)
        head.start_from_denoiser(denoiser.body)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot start the fusion head from this denoiser: {exc}") from exc


@register_trainer("bopbtl-fusion")
class FusionStage(_GanStage):
    """The fusion head on the frozen translation: image L1, perceptual, conditional LSGAN and feature
    matching against the clean photo, ``identity_fraction`` of the items being identity pairs; the
    head starts from the model config's ``fusion_weights``, then its body from ``denoiser_weights``,
    when given; with ``freeze_tone`` the starting head's tone stage is kept fixed."""

    def build(self):
        config = self.model_config.network_config()
        if config.fusion.mode == "none":
            raise ValueError(f"bopbtl-fusion: config {config.name!r} has no fusion head (fusion mode 'none')")
        self.mapping = load_frozen_mapping(config, self.model_config.mapping_weights, self.device)
        self.vae_old = load_frozen_vae(config, "bopbtl-vae-old", self.model_config.vae_old_weights, self.device)
        self.vae_clean = load_frozen_vae(config, "bopbtl-vae-clean", self.model_config.vae_clean_weights, self.device)
        fusion, disc = FusionHead(config.fusion), MultiScaleDiscriminator(6, config.discriminator)
        if self.model_config.fusion_weights:
            load_stage_weights(fusion, "bopbtl-fusion", self.model_config.fusion_weights, config, "fusion")
        if self.model_config.denoiser_weights:
            start_from_denoiser(fusion, self.model_config.denoiser_weights)
        if self.train_config.freeze_tone:
            if fusion.tone is None or not self.model_config.fusion_weights:
                raise ValueError("bopbtl-fusion: freeze_tone keeps the tone stage of a trained head; give a config "
                                 "with a tone stage and the head to start from (model.fusion_weights)")
            fusion.tone.requires_grad_(False)
        lr = self.train_config.lr
        return {"fusion": fusion, "disc": disc}, {"fusion": adam(fusion, lr=lr), "disc": adam(disc, lr=lr)}

    def translated(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The frozen VAE1 encoder -> mapping -> VAE2 decoder output (no gradient)."""
        with torch.no_grad():
            latent, _ = self.vae_old.encode(image)
            return self.vae_clean.decode(self.mapping(latent, latent_mask(mask)))

    def train_step(self, batch):
        cfg = self.train_config
        image, mask = identity_pairs(batch, cfg.identity_fraction, self.generator)
        clean = batch["clean"]
        with self.autocast():
            restored = self.nets["fusion"](image, self.translated(image, mask), mask)
        restored32 = restored.float()
        l1, perceptual = l1_loss(restored32, clean), self.perceptual(restored32, clean)
        loss = cfg.l1_weight * l1 + cfg.perceptual_weight * perceptual
        logs = {"l1": l1.item(), "vgg": perceptual.item()}
        if cfg.gan_weight or cfg.feature_matching_weight:
            real_pair, fake_pair = torch.cat([image, clean], 1), torch.cat([image, restored], 1)
            logs["d"] = self.discriminator_step("disc", real_pair, fake_pair)
            with self.autocast():
                gan, matching = self.adversarial("disc", real_pair, fake_pair)
            loss = loss + cfg.gan_weight * gan.float() + cfg.feature_matching_weight * matching.float()
            logs.update(gan=gan.item(), fm=matching.item())
        self.optimize(loss, "fusion")
        return {"loss": loss.item(), **logs}

    def sample(self, batch):
        mask = defect_mask(batch)
        mask = mask if mask is not None else batch["clean"][:, :1] * 0
        translated = self.translated(batch["degraded"], mask)
        return [batch["degraded"], translated, self.modules["fusion"](batch["degraded"], translated, mask),
                batch["clean"]]

    def export(self, path: Path, meta: dict) -> Path:
        return self.export_module(path, self.modules["fusion"], meta)


def focal_dice_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float,
                    dice_weight: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Focal loss (binary, ``gamma``) and soft Dice loss (1 - Dice) of defect ``logits`` vs a {0,1} mask."""
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    probability = torch.sigmoid(logits)
    p_true = probability * target + (1 - probability) * (1 - target)
    focal = ((1 - p_true) ** gamma * bce).mean()
    dice = 1 - (2 * (probability * target).sum() + 1) / (probability.sum() + target.sum() + 1)
    return focal, dice_weight * dice


@register_trainer("bopbtl-detector")
class DetectorStage(Stage):
    """The U-Net scratch detector on grey degraded photos against the union of the defect masks."""

    model_config_cls = BopbtlStageConfig
    train_config_cls = BopbtlTrainConfig

    def build(self):
        detector = ScratchDetector(self.model_config.network_config().detector)
        return {"detector": detector}, {"detector": adam(detector, lr=self.train_config.lr)}

    def train_step(self, batch):
        mask = defect_mask(batch)
        if mask is None:
            raise ValueError("bopbtl-detector: the training data has no defect masks ('mask' or 'masks')")
        with self.autocast():
            logits = self.nets["detector"](rgb_to_grey(batch["degraded"]))
        focal, dice = focal_dice_loss(logits.float(), mask, self.train_config.focal_gamma,
                                      self.train_config.dice_weight)
        loss = focal + dice
        self.optimize(loss, "detector")
        return {"loss": loss.item(), "focal": focal.item(), "dice": dice.item()}

    def sample(self, batch):
        grey = rgb_to_grey(batch["degraded"])
        columns = [grey, torch.sigmoid(self.modules["detector"](grey))]
        mask = defect_mask(batch)
        return columns + ([mask] if mask is not None else [])

    def export(self, path: Path, meta: dict) -> Path:
        return export_stage(self, path, self.modules["detector"], meta)
