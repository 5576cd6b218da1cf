// Algebra module — see ../shared/DESIGN.md
