"""Content credentials and detection: was this made here?"""
