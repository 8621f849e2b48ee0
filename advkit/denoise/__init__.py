"""Denoising GAN: the corruption process, the generators and discriminator, tiling, classical baselines, evaluation.

    advkit denoise train --noise-std 50          # CBSD432 crops, L1 + adversarial loss
    advkit denoise eval --set ../shared/data/denoise/CBSD68
    advkit denoise apply photo.jpg --out denoised/
"""
