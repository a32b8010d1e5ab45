#!/usr/bin/env python3
from repairhub.cli import main

if __name__ == "__main__":
    main()
