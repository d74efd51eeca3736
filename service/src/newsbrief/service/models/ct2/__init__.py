"""The CTranslate2 engine: conversion, a tokenizer without torch, translation and summarisation."""
