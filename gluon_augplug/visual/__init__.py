"""Figures: grids of augmented images (the chapter's ``show_images``)."""
