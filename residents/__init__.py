"""The public front door:
home, sign-up by SMS code, 我的, follows, 办理公开, personal-data rights (issue 17).
"""
