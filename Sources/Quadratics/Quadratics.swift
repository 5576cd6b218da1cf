// Quadratics module — see ../shared/DESIGN.md
