"""Run settings shared by the scripts."""

PHASE = "train"
EPOCHS = 2
LR = 0.1
