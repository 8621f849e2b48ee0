"""Trainers: one base (:class:`advkit.train.base.Trainer`) owns the loop; each trainer writes only its step."""
