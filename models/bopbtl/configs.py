"""Network sizes of the bopbtl family as dataclasses: ``full`` (the paper's widths, InstanceNorm and
patch fusion) and ``small`` (narrower, shipped, without normalisation in the VAEs and the mapping, see
:class:`VAEConfig`, and with residual patch fusion, see :class:`MappingConfig`). Both end in the
identity-safe output fusion (:class:`FusionConfig`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..configs import DiscriminatorConfig, make_config

GLOBAL_BRANCHES = ("local", "nonlocal", "partial-nonlocal", "patch-attention")
NORMS = ("instance", "none")
FUSION_MODES = ("residual", "none")
PATCH_FUSIONS = ("replace", "residual")
# Registered name -> (global branch, variational VAEs).
VARIANTS = {
    "bopbtl": ("patch-attention", True),
    "bopbtl-pnl": ("partial-nonlocal", True),
    "bopbtl-local": ("local", True),
    "bopbtl-ae": ("patch-attention", False),
}


@dataclass(frozen=True)
class VAEConfig:
    """Encoder/decoder of one domain. The latent has ``channels`` channels at 1/4 resolution.

    ``norm``: ``"instance"`` (the paper) or ``"none"``. InstanceNorm right after the linear stem makes
    the encoder blind to a crop's brightness, contrast and colour offset (the decoder must guess
    them), so ``"none"`` is the choice where colour must pass through (docs/models.md, "Normalisation").
    """

    channels: int = 64
    res_blocks: int = 4
    variational: bool = True
    norm: str = "instance"


@dataclass(frozen=True)
class MappingConfig:
    """Latent translation Z_X -> Z_Y: conv widths up from the latent, ResBlocks, global branch.

    ``patch_fusion``: how each patch-attention scale's 3x3 convolution of (features, copied patches,
    mask) meets the features: ``"replace"`` (the paper: its output replaces them) or ``"residual"``
    (added to them, the convolution zero-initialised, so an untrained branch passes features through).
    """

    widths: tuple[int, ...] = (128, 256, 512, 512)
    res_blocks: int = 6
    global_branch: str = "patch-attention"
    nonlocal_res_blocks: int = 3
    patch_sizes: tuple[int, ...] = (8, 4, 2)
    patch_max_masked: float = 0.6
    patch_res_blocks: int = 5
    attention_chunk_elements: int = 1 << 24
    norm: str = "instance"
    patch_fusion: str = "replace"


@dataclass(frozen=True)
class FusionConfig:
    """Identity-safe output fusion (see :mod:`.fusion`): ``mode`` ``"residual"`` (out = x + m(t - x) + r,
    the head ``depth`` 3x3 convs of ``width`` channels at full resolution) or ``"none"`` (the
    decoder's output as is, the paper's design; exports written before the fusion read as this).

    ``tone``: hidden width of the global colour stage (0: none; exports written before the option
    read as 0), which corrects the input's colour and tone before the head from whole-image
    statistics (see :class:`~.fusion.GlobalTone`)."""

    mode: str = "residual"
    width: int = 32
    depth: int = 8
    tone: int = 0


@dataclass(frozen=True)
class DetectorConfig:
    """U-Net scratch detector: widths ``base * 2**level`` for levels 0..depth; sigmoid threshold."""

    base_channels: int = 64
    depth: int = 4
    threshold: float = 0.4


@dataclass(frozen=True)
class BopbtlConfig:
    """Every size of one bopbtl network; ``name`` selects the checkpoint file.

    ``monochrome``: the chroma variation (:func:`~.fusion.chroma_variation`, [0, 1] units) below which
    an input counts as a black-and-white print and is restored as one (the output's BT.601 luma on
    every channel; 0 = never). It holds no weights, so it is not part of any stage's export check."""

    name: str = "full"
    vae: VAEConfig = field(default_factory=VAEConfig)
    mapping: MappingConfig = field(default_factory=MappingConfig)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    monochrome: float = 0.0

    def __post_init__(self) -> None:
        if self.mapping.global_branch not in GLOBAL_BRANCHES:
            raise ValueError(f"global_branch {self.mapping.global_branch!r}: expected one of {GLOBAL_BRANCHES}")
        for part in ("vae", "mapping"):
            if getattr(self, part).norm not in NORMS:
                raise ValueError(f"{part} norm {getattr(self, part).norm!r}: expected one of {NORMS}")
        if self.mapping.patch_fusion not in PATCH_FUSIONS:
            raise ValueError(f"patch_fusion {self.mapping.patch_fusion!r}: expected one of {PATCH_FUSIONS}")
        if self.fusion.mode not in FUSION_MODES:
            raise ValueError(f"fusion mode {self.fusion.mode!r}: expected one of {FUSION_MODES}")
        if self.fusion.width < 1 or self.fusion.depth < 2:
            raise ValueError(f"fusion needs width >= 1 and depth >= 2, got {self.fusion.width}, {self.fusion.depth}")
        if self.fusion.tone < 0:
            raise ValueError(f"fusion tone width {self.fusion.tone}: expected 0 (none) or more")
        if not 0.0 <= self.monochrome <= 1.0:
            raise ValueError(f"monochrome threshold {self.monochrome}: expected a value in [0, 1]")
        if not 0.0 <= self.mapping.patch_max_masked <= 1.0:
            raise ValueError(f"patch_max_masked {self.mapping.patch_max_masked}: expected a fraction in [0, 1]")

    def variant(self, global_branch: str, variational: bool) -> BopbtlConfig:
        """This config with another global branch and VAE/plain-autoencoder choice."""
        return dataclasses.replace(
            self,
            vae=dataclasses.replace(self.vae, variational=variational),
            mapping=dataclasses.replace(self.mapping, global_branch=global_branch),
        )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> BopbtlConfig:
        """Inverse of :meth:`to_dict` (lists become tuples again)."""
        try:
            mapping = dict(data["mapping"])
            mapping["widths"] = tuple(mapping["widths"])
            mapping["patch_sizes"] = tuple(mapping["patch_sizes"])
            return cls(
                name=data["name"],
                vae=VAEConfig(**data["vae"]),
                mapping=MappingConfig(**mapping),
                detector=DetectorConfig(**data["detector"]),
                discriminator=DiscriminatorConfig(**data["discriminator"]),
                fusion=FusionConfig(**data.get("fusion", {"mode": "none"})),
                monochrome=data.get("monochrome", 0.0),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a bopbtl config: {exc}") from None


FULL = BopbtlConfig()
SMALL = BopbtlConfig(
    name="small",
    vae=VAEConfig(channels=64, res_blocks=2, norm="none"),
    mapping=MappingConfig(widths=(64, 96, 128, 128), res_blocks=3, nonlocal_res_blocks=1, patch_res_blocks=1,
                          norm="none", patch_fusion="residual"),
    detector=DetectorConfig(base_channels=12, depth=4),
    discriminator=DiscriminatorConfig(channels=32, layers=3, scales=2),
    fusion=FusionConfig(tone=64),
    # 1% of the colour training crops (256 px, bopbtl-paper) fall below it, 87% of the grey ones.
    monochrome=0.02,
)
CONFIGS = {"full": FULL, "small": SMALL}


def get_config(config: str | dict | BopbtlConfig | None = None) -> BopbtlConfig:
    """A config by name (``"full"``, ``"small"``; None -> ``"small"``), the given instance, or a dict
    of overrides of a named one, as every model family takes (:func:`~oldphoto.models.configs.make_config`):
    ``{"name": "full", "mapping": {"res_blocks": 4}}`` or ``{"mapping.res_blocks": 4}`` (``name``
    picks the base, default ``"small"``). A config other than a shipped one has no shipped weights."""
    if isinstance(config, dict):
        overrides = dict(config)
        base = get_config(overrides.pop("name", SMALL.name))
        return make_config(BopbtlConfig, overrides, "bopbtl config", base)
    if config is None:
        return SMALL
    if isinstance(config, BopbtlConfig):
        return config
    if isinstance(config, str) and config in CONFIGS:
        return CONFIGS[config]
    raise ValueError(f"bopbtl config {config!r}: expected one of {sorted(CONFIGS)}, a dict of overrides "
                     "or a BopbtlConfig")
