"""``python -m fontglyphs`` (also what ``torchrun -m fontglyphs baseline ...`` runs)."""

from .cli import main

main()
