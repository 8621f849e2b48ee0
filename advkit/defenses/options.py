"""The defence choices a config may name, readable without importing torch (fast ``--help``): HGD's guides
(:mod:`advkit.defenses.hgd`: logits = LGD, features = FGD, labels = CGD; Liao et al. 2018).

    >>> GUIDES
    ('logits', 'features', 'labels')
"""

GUIDES = ("logits", "features", "labels")
