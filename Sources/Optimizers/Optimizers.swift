// Optimizers module — see ../shared/DESIGN.md
