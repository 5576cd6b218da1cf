// Dynamics module — see ../shared/DESIGN.md
