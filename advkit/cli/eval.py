"""``advkit eval gan|domain-classifier|robustness|defense`` (library: advkit.commands.eval_*)."""

from advkit.attacks.catalog import ATTACKS
from advkit.cli.common import LibraryGroup

command = LibraryGroup("eval", {
    "gan": ("eval gan", "Domain FID, KID, precision/recall/density/coverage and IS, each beside the real floor; mode "
                        "coverage; Inception FID/IS when its weights are given."),
    "domain-classifier": ("eval domain-classifier", "Train the LeNet-style classifier behind the domain metrics on the "
                                                    "part of the training split that GANs never see."),
    "robustness": ("eval robustness", "Robust accuracy of any model on any data per eps and attack (" +
                   ", ".join(ATTACKS) + "; L-inf or L2), the worst case per point, and gradient-masking warnings."),
    "defense": ("eval defense", "Is a purification defence (bit depth, JPEG, median, TV, a denoiser, HGD, Defense-GAN) "
                                "robust? Accuracy under the oblivious attack, white-box PGD, BPDA, EOT and AutoAttack."),
}, help="Evaluate trained models: GANs (FID, KID, precision/recall, IS, modes), robustness to attacks, defences.")
