"""Certified robustness by randomized smoothing (Cohen, Rosenfeld & Kolter 2019) and denoised smoothing (Salman et
al. 2020): CERTIFY / PREDICT (smoothing.py), Clopper-Pearson bounds (bounds.py), training on noise
(noise_training.py), denoisers in front of a classifier (denoised.py) and the SmoothAdv attack (attack.py).

The smoothed classifier g(x) = argmax_c P(f(x + delta) = c), delta ~ N(0, sigma^2 I), is robust within the L2
radius R = sigma * Phi^-1(pA_lower) around x whenever pA_lower > 1/2 (Cohen et al., Theorem 1).
"""
