"""``advkit defense train-hgd`` (library: advkit.commands.defense_*); ``advkit eval defense`` evaluates them."""

from advkit.cli.common import LibraryGroup

command = LibraryGroup("defense", {
    "train-hgd": ("defense train-hgd", "Train the high-level representation guided denoiser (Liao et al. 2018) in "
                                       "front of a fixed classifier on FGSM / PGD examples (loss on its logits or "
                                       "features), then evaluate it as `eval defense` does."),
}, help="Train purification defences (HGD); `advkit eval defense --purifier hgd:CKPT` evaluates them.")
