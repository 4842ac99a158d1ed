"""The sample's UI: its factors come from package data (importlib.resources), as
a shipped app must read them, and its numbers are written by a dependency of
its own (humanize), which desktop-app does not use: both must be in its bundle."""

from __future__ import annotations

import json
from importlib import resources

import gradio as gr
import humanize


def factors() -> dict[str, float]:
    return json.loads(resources.files("converter").joinpath("units.json").read_text())


def convert(value: float, source: str, target: str) -> str:
    units = factors()
    return f"{humanize.intcomma(float(f'{value * units[source] / units[target]:g}'))} {target}"


def build() -> gr.Blocks:
    units = sorted(factors())
    with gr.Blocks(title="Unit Converter") as demo:
        value = gr.Number(label="Value", value=1)
        source = gr.Dropdown(units, value="mile", label="From")
        target = gr.Dropdown(units, value="km", label="To")
        result = gr.Textbox(label="Result")
        gr.Button("Convert").click(convert, [value, source, target], result, api_name="convert")
    return demo
