/* Stand-in for BackgroundAudio's English voice. Tests only. */
#pragma once
#include "BackgroundAudioSpeech.h"
static const BackgroundAudioVoice voice_en = {"en"};
