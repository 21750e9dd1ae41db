"""Services the editor uses that hold no editor state: the keyring, the local engine process."""
