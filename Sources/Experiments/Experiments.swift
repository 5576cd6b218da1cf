// Experiments module — see ../shared/DESIGN.md
