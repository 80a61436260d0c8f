"""A small production stack managed by CI: one main line and a pool of agent lines.

The vendor comes from ``phonenumbers:vendor`` (``Pulumi.prod.yaml``: plivo); config:
``voiceTarget`` (where calls go), ``areaCode``, ``agents`` (pool size), ``maxMonthlyCost``,
``protectMainLine`` (refuse to release the main line).
"""

import pulumi

from pulumi_phonenumbers import PhoneNumber, PhoneNumberFleet, RoutingArgs

config = pulumi.Config()
voice_target = config.get("voiceTarget")
area_code = config.get("areaCode") or "415"
max_cost = config.get_float("maxMonthlyCost")

main_line = PhoneNumber(
    "main-line",
    country="US",
    area_code=area_code,
    capabilities=["voice"],
    max_monthly_cost=max_cost,
    routing=RoutingArgs(voice_target=voice_target, label="Main line"),
    opts=pulumi.ResourceOptions(protect=config.get_bool("protectMainLine") or False),
)
agents = PhoneNumberFleet(
    "agents",
    size=config.get_int("agents") or 2,
    country="US",
    area_code=area_code,
    capabilities=["voice"],
    max_monthly_cost=max_cost,
    routing=RoutingArgs(voice_target=voice_target, label="Agent line"),
)

pulumi.export("main_line", main_line.number)
pulumi.export("agents", agents.numbers)
