"""web/static/gridmap/gcj02.js and gridmap/core/geo.py give the same WGS84 → GCJ-02 offset
(the JS one shifts GCJ-02 tiles under WGS84 data; the Python one converts imports)."""
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

from gridmap.core.geo import wgs84_to_gcj02

JS = Path(__file__).resolve().parents[2] / "web" / "static" / "gridmap" / "gcj02.js"
POINTS = [
    (113.94, 22.54),      # Shenzhen, Nanshan (the demo district)
    (116.397, 39.908),    # Beijing
    (121.4737, 31.2304),  # Shanghai
    (87.6168, 43.8256),   # Urumqi
    (126.642, 45.757),    # Harbin
    (109.5, 18.25),       # Sanya
    (2.3522, 48.8566),    # Paris: outside China, no offset
]


def test_js_and_python_agree(tmp_path):
    assert shutil.which("node"), "node is not installed: `apt-get install nodejs` (scripts/gridmap does it)"
    module = tmp_path / "gcj02.mjs"  # .mjs: node loads it as an ES module whatever package.json says
    module.write_text(JS.read_text(encoding="utf-8"), encoding="utf-8")
    script = (f"import {{ wgs84ToGcj02 }} from {json.dumps(module.as_uri())};"
              f"console.log(JSON.stringify({json.dumps(POINTS)}.map(([x, y]) => wgs84ToGcj02(x, y))));")
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, check=True, timeout=30)
    js = np.array(json.loads(out.stdout))
    py = wgs84_to_gcj02(np.array(POINTS, dtype=float))
    assert np.abs(js - py).max() < 1e-7
    # and the offset is real in China (hundreds of metres), nil outside
    assert np.abs(py[0] - POINTS[0]).max() > 1e-3
    assert js[-1].tolist() == list(POINTS[-1])
