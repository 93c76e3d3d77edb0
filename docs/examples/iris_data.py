"""The iris data set that scikit-learn ships, with plain column names, split the same way every time."""

from __future__ import annotations

import pandas as pd
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

__all__ = ["FEATURES", "TARGET", "split"]

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
TARGET = "species"


def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and test frames (features and the ``species`` label), stratified, seed 7."""
    frame = load_iris(as_frame=True).frame
    frame.columns = [*FEATURES, TARGET]
    train, test = train_test_split(frame, test_size=0.3, random_state=7, stratify=frame[TARGET])
    return train.reset_index(drop=True), test.reset_index(drop=True)
