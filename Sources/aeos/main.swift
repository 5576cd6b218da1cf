print("aeos")
