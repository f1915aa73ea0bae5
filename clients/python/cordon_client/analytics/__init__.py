"""Operation analytics: figures computed on the device from the verified archive (issue 14).

* `figures`: the pure function `analyse(items, params)` (docs/ANALYTICS.md).
* `render`: the table as HTML with SVG charts, PDF, CSV and JSON.
* `report`: sync, compute, render and publish, for `cordon report`.
"""
