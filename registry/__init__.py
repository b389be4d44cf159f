"""网格基础数据:
buildings, homes, people, organisations, places, key persons and visits (issue 19).
"""
