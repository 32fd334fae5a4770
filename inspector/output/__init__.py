"""What a finished ``Report`` becomes for people: table rows, Plotly charts, CLI text, files
(GraphDefs, pictures, TensorBoard logs) and the self-contained HTML report. No TensorFlow.
"""
