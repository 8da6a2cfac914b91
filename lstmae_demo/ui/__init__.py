"""The only part of the package (with pages/) that imports streamlit: widgets and page state."""
