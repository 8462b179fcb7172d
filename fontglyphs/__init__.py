"""fontglyphs: build notMNIST-style glyph image datasets from font files.

Pipeline (one module per stage, the manifest is the contract between stages)::

    render   fonts -> output/glyphs/<LETTER>/<key>.png + manifest.csv + rejects.csv
    clean    output/glyphs -> output/{small,large}/<LETTER>/*.png + output/clean/report.{json,md}
    export   output/{small,large} -> output/export/notMNIST_<split>.{tar.gz,mat,h5,npz} + IDX
    baseline output/{large,small} -> output/baseline/<run>/metrics.json, confusion.png, model.pt
"""

__version__ = "0.3.5"
