"""The screens: store list, store detail, file list, batch monitor, clean-up, dialogs."""
