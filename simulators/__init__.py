"""Simulated sensor nodes for every production type, with fault injection and ground truth.

`simulators.farm.Farm` generates the messages (library API, no MQTT); `simulators.cli` is `ruongso sim`.
"""
