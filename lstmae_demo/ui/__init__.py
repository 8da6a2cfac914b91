"""The only part of the package (with app_pages/) that imports streamlit: widgets and page state."""
