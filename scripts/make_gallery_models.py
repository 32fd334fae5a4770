"""The gallery's two models (issue 27): MobileNetV3Small with random weights, saved as a
.keras file and exported as a SavedModel folder, made once by the set-up (Keras builds it;
nothing is downloaded). Usage: python scripts/make_gallery_models.py FOLDER
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

# Names the gallery reads (inputs/gallery.py: GALLERY_MODELS).
KERAS_FILE = "mobilenet_v3_small.keras"
SAVED_FOLDER = "mobilenet_v3_small_saved"


def main() -> None:
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    import keras

    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV3Small(weights=None, input_shape=(224, 224, 3))
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder))
    try:
        model.save(work / KERAS_FILE)
        model.export(str(work / SAVED_FOLDER), verbose=False)
        for name in (KERAS_FILE, SAVED_FOLDER):
            target = folder / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
            (work / name).rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"gallery models in {folder}: {KERAS_FILE}, {SAVED_FOLDER}")


if __name__ == "__main__":
    main()
