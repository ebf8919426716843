"""The resolver: GS1 Digital Link paths and platform codes to the public trace page or a GS1 linkset; scan
counting and counterfeit flags."""
