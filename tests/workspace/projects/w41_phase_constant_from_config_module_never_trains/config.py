"""Run settings shared by the scripts."""

PHASE = "training"
EPOCHS = 2
LR = 0.1
