"""The Streamlit pages: the only modules that import Streamlit. None imports TensorFlow."""
