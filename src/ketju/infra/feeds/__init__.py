"""National interoperability feeds: CPSV-AP, the LDES change stream, the dataset description
(VoID, DCAT-AP) and the dumps. Each module offers `build_step`, which `ketju build` runs on the
new store before it is swapped in, and the web layer serves what they produce."""
