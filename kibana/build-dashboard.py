"""Builds kibana/sentencify-dashboard.ndjson from kibana/sentencify-dashboard.yaml.

    python3.12 -m venv /tmp/kb && /tmp/kb/bin/pip install kb-dashboard-cli==0.4.1
    /tmp/kb/bin/python kibana/build-dashboard.py

The YAML is compiled to Kibana 8 Lens panels by kb-dashboard-cli; then this script
- prepends the data view (index-pattern `sentencify-golden`, title `sentencify-golden-*`, time
  field `ts`) that every panel references,
- adds the two ratio columns of the tokens/cost table as Lens formula columns (the compiler's
  formula parser does not finish on this machine), and the `accepted:true` filter the compiler
  dropped from the "Accepted" count,
- strips the compiler's made-up audit fields (created_at/by, updated_at/by), which older 8.x
  imports reject.
The output is committed; test/unit/kibana checks it and test/int/elasticsearch.int.test.ts runs
every panel's aggregation on a real node.
"""

import json
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
DATA_VIEW_ID = "sentencify-golden"


def compile_yaml() -> dict:
    with tempfile.TemporaryDirectory() as out:
        cli = pathlib.Path(sys.executable).with_name("kb-dashboard")
        subprocess.run(
            [str(cli), "compile", "--input-file", str(HERE / "sentencify-dashboard.yaml"), "--output-dir", out],
            check=True,
        )
        return json.loads((pathlib.Path(out) / "compiled_dashboards.ndjson").read_text().splitlines()[0])


def formula_columns(cid: str, label: str, field: str, text: str) -> dict:
    """A Lens formula `sum(field) / count(kql='accepted:true')` with the sub-columns Lens persists."""
    part = f"Part of {label}"
    x0, x1, x2 = f"{cid}X0", f"{cid}X1", f"{cid}X2"
    base = {"dataType": "number", "isBucketed": False, "scale": "ratio", "customLabel": True}
    return {
        x0: {**base, "label": part, "operationType": "sum", "sourceField": field, "params": {"emptyAsNull": False}},
        x1: {
            **base,
            "label": part,
            "operationType": "count",
            "sourceField": "___records___",
            "filter": {"query": "accepted:true", "language": "kuery"},
            "params": {"emptyAsNull": False},
        },
        x2: {
            **base,
            "label": part,
            "operationType": "math",
            "params": {
                "tinymathAst": {
                    "type": "function",
                    "name": "divide",
                    "args": [x0, x1],
                    "location": {"min": 0, "max": len(text)},
                    "text": text,
                }
            },
            "references": [x0, x1],
        },
        cid: {
            **base,
            "label": label,
            "operationType": "formula",
            "params": {"formula": text, "isFormulaBroken": False},
            "references": [x2],
        },
    }


def patch_tokens_panel(panel: dict) -> None:
    attrs = panel["embeddableConfig"]["attributes"]
    layers = attrs["state"]["datasourceStates"]["formBased"]["layers"]
    (layer,) = layers.values()
    layer["columns"]["accepted-count"]["filter"] = {"query": "accepted:true", "language": "kuery"}
    added = {}
    for cid, label, field in [
        ("tokens-per-accepted", "Tokens per accepted suggestion", "total_tokens"),
        ("cost-per-accepted", "Cost (USD) per accepted suggestion", "cost_usd"),
    ]:
        added.update(formula_columns(cid, label, field, f"sum({field}) / count(kql='accepted:true')"))
    layer["columns"].update(added)
    layer["columnOrder"] += list(added)
    vis = attrs["state"]["visualization"]
    vis["columns"] += [
        {"columnId": c, "isTransposed": False, "isMetric": True} for c in ("tokens-per-accepted", "cost-per-accepted")
    ]


def main() -> None:
    dash = compile_yaml()
    panels = json.loads(dash["attributes"]["panelsJSON"])
    for p in panels:
        if p["panelIndex"] == "sentencify-tokens-cost":
            patch_tokens_panel(p)
    dash["attributes"]["panelsJSON"] = json.dumps(panels)
    for k in ("created_at", "created_by", "updated_at", "updated_by"):
        dash.pop(k, None)
    data_view = {
        "type": "index-pattern",
        "id": DATA_VIEW_ID,
        "attributes": {"title": "sentencify-golden-*", "timeFieldName": "ts", "name": "Sentencify golden (H)"},
        "references": [],
        "coreMigrationVersion": "8.8.0",
        "typeMigrationVersion": "8.0.0",
        "managed": False,
    }
    lines = [json.dumps(o, sort_keys=True, ensure_ascii=False) for o in (data_view, dash)]
    (HERE / "sentencify-dashboard.ndjson").write_text("\n".join(lines) + "\n")
    print(f"wrote {HERE / 'sentencify-dashboard.ndjson'}: {len(panels)} panels")


if __name__ == "__main__":
    main()
