"""People come and go: the hand-over of a departing person's clients and open work (hand_over.py)."""
