// NeuralEngine module — see ../shared/DESIGN.md
