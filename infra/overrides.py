"""``--set OWNER.FIELD=VALUE`` command-line overrides, shared by the commands that take them."""

from __future__ import annotations


def parse_overrides(items: list[str] | tuple[str, ...], owner: str = "MODEL",
                    example: str = "dip.iterations=50") -> dict[str, dict]:
    """``["dip.iterations=50", "bopbtl.mapping.res_blocks=2"]`` -> ``{"dip": {"iterations": 50},
    "bopbtl": {"mapping.res_blocks": 2}}``: split at the first dot, values parsed as YAML scalars.
    A malformed item is a ValueError naming it, the expected ``owner.FIELD=VALUE`` form and ``example``."""
    import yaml

    parsed: dict[str, dict] = {}
    for item in items:
        target, sep, value = item.partition("=")
        name, dot, field_name = target.partition(".")
        if not (sep and dot and name and field_name):
            raise ValueError(f"--set {item!r}: expected {owner}.FIELD=VALUE, e.g. {example}")
        try:
            parsed.setdefault(name, {})[field_name] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise ValueError(f"--set {item!r}: cannot parse the value ({exc})") from None
    return parsed
