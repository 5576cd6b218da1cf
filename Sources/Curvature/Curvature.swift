// Curvature module — see ../shared/DESIGN.md
