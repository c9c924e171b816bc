"""Published results the experiments are compared against, with their sources.

Numbers from papers and benchmark archives, not computed here. ``source`` names the entry in
book/references.bib; ``verified`` says whether it was checked against the primary source.
"""

PUBLISHED = {
    "italy_power_demand": {
        "1nn_dtw": {"accuracy": 0.950, "source": "dau2019ucr", "verified": True,
                    "note": "1-NN with DTW (full window), UCR archive 2018 summary"},
        "fcn": {"accuracy": 0.961, "source": "fawaz2019deep", "verified": True,
                "note": "fully convolutional network, mean of 10 runs"},
        "resnet": {"accuracy": 0.963, "source": "fawaz2019deep", "verified": True,
                   "note": "ResNet, mean of 10 runs"},
    },
}
