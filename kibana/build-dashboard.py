"""Builds kibana/sentencify-dashboard.ndjson from kibana/sentencify-dashboard.yaml.

    python3.12 -m venv /tmp/kb && /tmp/kb/bin/pip install kb-dashboard-cli==0.4.1
    /tmp/kb/bin/python kibana/build-dashboard.py

    npm run kibana:build

The YAML is compiled to Kibana 8 Lens panels by kb-dashboard-cli; then this script
- prepends the data view (index-pattern `sentencify-golden`, title `sentencify-golden-*`, time
  field `ts`) that every panel references,
- strips the compiler's made-up audit fields (created_at/by, updated_at/by), which older 8.x
  imports reject.
`npm run kibana:build` (kibana/build-dashboard.ts) then writes the shared KPI definitions of
analytics/kpi-definitions.ts into it: the funnel stages, the acceptance field and the accepted
filter (which the compiler drops from the "Accepted" count), and the tokens/cost table's ratio
columns as Lens formula columns (the compiler's formula parser does not finish on this machine).
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


def main() -> None:
    dash = compile_yaml()
    panels = json.loads(dash["attributes"]["panelsJSON"])
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
    print(f"wrote {HERE / 'sentencify-dashboard.ndjson'}: {len(panels)} panels; now run npm run kibana:build")


if __name__ == "__main__":
    main()
