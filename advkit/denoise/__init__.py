"""Denoising GAN: the corruption process, the generators and discriminator, tiling, classical baselines, evaluation;
the blind model (noise level as an input map), noise-level estimation, applying a model to a user's image.

    advkit denoise train --noise-std 50          # CBSD432 crops, L1 + adversarial loss
    advkit denoise train --blind --clip-fraction 0.5 --val-split 32   # any sigma in [0, 75], clipped or not
    advkit denoise eval --set CBSD68                 # `advkit data fetch CBSD68` first
    advkit denoise apply photo.jpg --out denoised/
"""
