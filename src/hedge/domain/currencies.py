"""ISO 4217 currency codes of circulating currencies (the built-in FX pairs are made of two).

The precious metals (XAU, XAG, XPT, XPD) are ISO 4217 codes too but are not currencies here:
they are the built-in metals. Fund and testing codes (XDR, XSU, XTS, XXX, ...) are left out.
"""

from __future__ import annotations

ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
    """.split()
)  # not CNH (offshore yuan, not an ISO 4217 code): USDCNH comes from the terminal or configuration
METALS = frozenset({"XAU", "XAG", "XPT", "XPD"})
MAJORS = ("USD", "EUR", "JPY", "GBP", "AUD", "NZD", "CAD", "CHF")
